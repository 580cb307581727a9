"""costguard: keeps the cost of OpenFaaS functions on EKS with Karpenter down.

Functional core (pure planning modules) and imperative shell (thin adapters for Kubernetes, AWS and Slack).
`app.py` at the project root only wires Chalice events to each feature's `handler` module
(`chalice_app.interruptions.handler`, `offhours.handler`, `budget.handler`, `slackapp.route`); docs/architecture.md
maps the packages.
"""
