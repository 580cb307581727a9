"""Loopback-only sandbox: fake AWS, fake Kubernetes API server, Slack receiver and the demo."""
