"""costguard interruptions."""
