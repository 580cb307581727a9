"""Every Kubernetes name costguard reads or writes: labels, annotations, taints, API groups. One home, so a newcomer
finds each name once and a rename is one edit. Pure constants: no imports, cheap for every Lambda."""
from __future__ import annotations

# costguard's own annotations (written by off-hours and the budget, read back by them and by `costguard status`)
ANNOTATION_PREFIX = "costguard.openfaas.com/"
ORIGINAL_REPLICAS = ANNOTATION_PREFIX + "original-replicas"  # a parked function's restore count (mirror)
ORIGINAL_LIMITS = ANNOTATION_PREFIX + "original-limits"  # a NodePool's spec.limits before costguard changed them
BUDGET_STATUS = ANNOTATION_PREFIX + "budget-status"  # the budget's last decision on a NodePool, as JSON
NODEPOOL_OPT_IN = ANNOTATION_PREFIX + "offhours"  # "true": off-hours may park this NodePool
NIGHT_ALLOWANCE = ANNOTATION_PREFIX + "night-allowance"  # limits off-hours set for a woken function's pods
EXCLUDE_UNTIL = ANNOTATION_PREFIX + "exclude-until"  # set from Slack: leave this function up until then

# py-kube-downscaler's annotations, read as a fallback so its users can switch
LEGACY_PREFIX = "downscaler/"
LEGACY_ORIGINAL_REPLICAS = LEGACY_PREFIX + "original-replicas"

# OpenFaaS (faas-netes pkg/handlers/deploy.go): the label on every function Deployment and pod, and the scaling labels
FUNCTION_LABEL = "faas_function"
SCALE_ZERO_LABEL = "com.openfaas.scale.zero"
SCALE_MIN_LABEL = "com.openfaas.scale.min"
SCALE_MAX_LABEL = "com.openfaas.scale.max"

# Karpenter v1 (kubernetes-sigs/karpenter pkg/apis/v1/labels.go, taints.go) and its AWS provider
KARPENTER_GROUP = "karpenter.sh"
KARPENTER_VERSION = "v1"
KARPENTER_AWS_GROUP = "karpenter.k8s.aws"  # EC2NodeClass
NODEPOOLS, NODECLAIMS, NODECLASSES = "nodepools", "nodeclaims", "ec2nodeclasses"
NODEPOOL_LABEL = KARPENTER_GROUP + "/nodepool"  # also the EC2 tag Karpenter puts on instances
CAPACITY_TYPE_LABEL = KARPENTER_GROUP + "/capacity-type"
DO_NOT_DISRUPT = KARPENTER_GROUP + "/do-not-disrupt"  # pod annotation
DISRUPTED_TAINT = KARPENTER_GROUP + "/disrupted"
NODECLASS_LABEL = KARPENTER_AWS_GROUP + "/ec2nodeclass"
EKS_CAPACITY_TYPE_LABEL = "eks.amazonaws.com/capacityType"  # managed node groups: ON_DEMAND / SPOT
STATIC_POOL = "(node group)"  # how settings and alerts name nodes without a NodePool

# Kubernetes well-known labels and annotations (kubernetes/website reference/labels-annotations-taints)
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
ZONE_LABEL = "topology.kubernetes.io/zone"
ARCH_LABEL = "kubernetes.io/arch"
OS_LABEL = "kubernetes.io/os"
MIRROR_POD = "kubernetes.io/config.mirror"  # static pods' mirror annotation: the kubelet owns them

# Group/versions of what costguard lists and patches
APPS = ("apps", "v1")

# Warm headroom (chalice_app/headroom): the NodePool annotation that asks for it, and what holds the placeholders
HEADROOM = ANNOTATION_PREFIX + "headroom"  # on a NodePool: "<time spec>: <cpu> vCPU, <memory>"
HEADROOM_POOL_LABEL = ANNOTATION_PREFIX + "headroom-pool"  # on placeholder Deployments and their pods
HEADROOM_NAMESPACE = "costguard-headroom"  # made by policies/headroom.yaml
HEADROOM_PRIORITY_CLASS = "costguard-headroom"  # negative value, preemptionPolicy Never (policies/headroom.yaml)
