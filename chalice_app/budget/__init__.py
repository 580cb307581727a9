"""costguard budget."""
