"""TK_HOME: where a run leaves everything (DESIGN §3).

config.toml       the user's settings (`tk init` writes an annotated one)
tradekit.db       the SQLite store (WAL)
logs/*.jsonl      append-only audit trails
data/             market data
report/           generated pages
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradekit.redact import Redactor

DEFAULT_HOME = Path("memory")
#: The flags row `tk init` writes: this home was made on purpose and its state is the real one.
INITIALISED_FLAG = "home.initialised"


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

    def is_initialised(self) -> bool:
        """A home `tk init` made: its database holds the init flag. A home of an older
        tradekit (before the flag) counts when its database and config.toml are both there,
        so it is not refused for lack of a row it could not have."""
        if not self.db_file.is_file():
            return False
        return self.config_file.is_file() or self._has_initialised_flag()

    def _has_initialised_flag(self) -> bool:
        try:
            db = sqlite3.connect(f"{self.db_file.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error:
            return False
        try:
            row = db.execute("SELECT 1 FROM flags WHERE key=?", (INITIALISED_FLAG,)).fetchone()
        except sqlite3.Error:  # not a tradekit database (yet): not initialised
            return False
        finally:
            db.close()
        return row is not None

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


@dataclass(frozen=True)
class Initialised:
    """What `initialise` did, for tk init to report."""

    config_written: bool
    config_existed: bool
    schema_version: int


def initialise(
    home: Home, now: datetime, redactor: Redactor | None = None, *, force: bool = False
) -> Initialised:
    """What `tk init` does: the layout, the annotated config.toml (kept unless forced), the
    database, and the flag that marks the home as made on purpose."""
    from tradekit.store import Store

    home.ensure()
    existed = home.config_file.exists()
    wrote = home.write_config_template(force=force)
    with Store(home.db_file, redactor) as store:
        if store.get_flag(INITIALISED_FLAG) is None:
            store.set_flag(INITIALISED_FLAG, {"by": "tk init"}, now)
        version = store.schema_version
    return Initialised(config_written=wrote, config_existed=existed, schema_version=version)
