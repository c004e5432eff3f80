"""TK_HOME: where a run leaves everything (DESIGN §3).

config.toml       the user's settings (`tk init` writes an annotated one)
tradekit.db       the SQLite store (WAL)
logs/*.jsonl      append-only audit trails
data/             market data
report/           generated pages
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

DEFAULT_HOME = Path("memory")


def config_template() -> str:
    return resources.files("tradekit").joinpath("templates/config.toml").read_text("utf-8")


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def config_file(self) -> Path:
        return self.root / "config.toml"

    @property
    def db_file(self) -> Path:
        return self.root / "tradekit.db"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def report(self) -> Path:
        return self.root / "report"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.jsonl"

    def exists(self) -> bool:
        return self.root.is_dir()

    def ensure(self) -> bool:
        """Create the layout; returns True when the home itself was new."""
        created = not self.root.exists()
        for directory in (self.root, self.logs, self.data, self.report):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        return created

    @property
    def config_backup(self) -> Path:
        return self.root / "config.toml.bak"

    def write_config_template(self, *, force: bool = False) -> bool:
        """Write the annotated config.toml; never overwrites unless forced, and then the old
        file is kept as config.toml.bak."""
        if self.config_file.exists():
            if not force:
                return False
            self.config_backup.write_bytes(self.config_file.read_bytes())
        tmp = self.config_file.with_suffix(".toml.tmp")
        tmp.write_text(config_template(), encoding="utf-8")
        tmp.replace(self.config_file)
        return True
