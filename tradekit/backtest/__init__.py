"""tk backtest: the live pipeline (tk-signal's replay, tk-news-gate, tk-risk, tk-exec on the
paper exchange, tk-guard) run bar by bar on a simulated clock, in one process, into a run
folder (TK_HOME/backtests/<run id>/). No rule is implemented twice: the loop only moves
the clock and hands each stage's records to the next, as bin/tk-cycle's pipe does."""
