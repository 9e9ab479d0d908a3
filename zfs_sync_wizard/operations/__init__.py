"""Looking after jobs once they run: what `--status` shows (status)."""
