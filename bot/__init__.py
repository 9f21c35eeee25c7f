"""citebot's front ends: the command line and the Telegram bot (built on ``index``)."""
