"""Exit statuses shared by every command (documented in README.md, one test each)."""

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    #: An unexpected internal error (a bug): reported in one line, traceback with -v.
    ERROR = 1
    #: Wrong options or arguments on the command line.
    USAGE = 2
    #: At least one input line was not a valid record (sysexits EX_DATAERR).
    BAD_INPUT = 65
    #: The exchange could not be reached or refused to serve us (EX_UNAVAILABLE).
    EXCHANGE_UNAVAILABLE = 69
    #: Nothing wrong, but not now: a lock is held or we are rate limited (EX_TEMPFAIL).
    TRY_AGAIN_LATER = 75
    #: The config file or the environment is wrong (EX_CONFIG).
    CONFIG = 78
    #: Interrupted by Ctrl-C / SIGTERM between records (128 + SIGINT).
    INTERRUPTED = 130
    #: The reader of our output went away (`tk-risk | head -1`); 128 + SIGPIPE.
    BROKEN_PIPE = 141
