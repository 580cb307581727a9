"""Thin adapter over the `kubernetes` client: EKS authentication and a configured ApiClient (auth, client,
kubeconfig), every name costguard reads or writes on the cluster (names), plain-dict requests and the merge-patch
writer (rest), and the one paged list (lists)."""
