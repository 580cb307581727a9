"""Scheduled digests: Karpenter's own disruptions (daily) and the most reclaimed spot capacity (weekly)."""
