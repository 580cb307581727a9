"""Slack delivery: Block Kit messages through a webhook or a bot token (slack_sdk)."""
