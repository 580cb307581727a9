"""Kubernetes and AWS objects shaped as the real APIs return them, for the budget tests."""
from __future__ import annotations

import json


def nodepool(name="default", cpu="100", requirements=None, memory=None, rv="7", annotations=None):
    limits = {"cpu": cpu}
    if memory:
        limits["memory"] = memory
    return {
        "apiVersion": "karpenter.sh/v1", "kind": "NodePool",
        "metadata": {"name": name, "resourceVersion": rv, "annotations": annotations or {}},
        "spec": {
            "limits": limits,
            "template": {"spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                "requirements": requirements if requirements is not None else [
                    {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m", "r"]},
                    {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": ["2"]},
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
                ]}},
        },
    }


def nodeclaim(name, pool="default", instance_type="m5.xlarge", capacity="on-demand", zone="us-east-1a",
              created="2026-11-10T00:00:00Z", cpu="4", memory="16Gi", node_name=None, gpu=None):
    capacity_map = {"cpu": cpu, "memory": memory}
    if gpu:
        capacity_map["nvidia.com/gpu"] = gpu
    return {
        "apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
        "metadata": {"name": name, "creationTimestamp": created, "labels": {
            "karpenter.sh/nodepool": pool, "node.kubernetes.io/instance-type": instance_type,
            "karpenter.sh/capacity-type": capacity, "topology.kubernetes.io/zone": zone}},
        "status": {"capacity": capacity_map, "nodeName": node_name or f"ip-{name}"},
    }


def node(name, pool="default", instance_type="m5.xlarge", capacity="on-demand", zone="us-east-1a",
         created="2026-11-10T00:00:00Z", cpu="4", memory="16Gi"):
    claim = nodeclaim(name, pool, instance_type, capacity, zone, created, cpu, memory)
    return {"apiVersion": "v1", "kind": "Node", "metadata": {**claim["metadata"], "name": name},
            "status": {"capacity": claim["status"]["capacity"]}}


def ec2_type(name, vcpus, mib, arch="x86_64", gpus=0):
    item = {"InstanceType": name, "VCpuInfo": {"DefaultVCpus": vcpus}, "MemoryInfo": {"SizeInMiB": mib},
            "ProcessorInfo": {"SupportedArchitectures": [arch]}, "SupportedUsageClasses": ["on-demand", "spot"]}
    if gpus:
        item["GpuInfo"] = {"Gpus": [{"Name": "T4", "Manufacturer": "NVIDIA", "Count": gpus}]}
    return item


EC2_TYPES = [
    ec2_type("m5.xlarge", 4, 16384), ec2_type("m5.2xlarge", 8, 32768), ec2_type("c5.xlarge", 4, 8192),
    ec2_type("r5.xlarge", 4, 32768), ec2_type("m6g.xlarge", 4, 16384, arch="arm64"),
    ec2_type("t3.large", 2, 8192), ec2_type("m1.large", 2, 7680), ec2_type("g4dn.xlarge", 4, 16384, gpus=1),
]
ON_DEMAND = {"m5.xlarge": 0.192, "m5.2xlarge": 0.384, "c5.xlarge": 0.17, "r5.xlarge": 0.252, "m6g.xlarge": 0.154,
             "t3.large": 0.0832, "m1.large": 0.175, "g4dn.xlarge": 0.526}


def price_item(instance_type, usd, region="us-east-1"):
    """One GetProducts PriceList entry, a JSON string as the Pricing API returns it."""
    sku = f"SKU{abs(hash(instance_type)) % 10**8:08d}"
    return json.dumps({
        "product": {"productFamily": "Compute Instance", "sku": sku, "attributes": {
            "instanceType": instance_type, "regionCode": region, "location": "US East (N. Virginia)",
            "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}},
        "serviceCode": "AmazonEC2",
        "terms": {"OnDemand": {f"{sku}.JRTCKXETXF": {
            "offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z",
            "priceDimensions": {f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                "unit": "Hrs", "pricePerUnit": {"USD": f"{usd:.10f}"}, "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
                "description": f"${usd} per On Demand Linux {instance_type} Instance Hour"}}}}},
        "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z",
    })


BUDGET = {
    "currency": "USD", "period": "monthly", "amount": 1000, "mode": "enforce",
    "nodepools": {"default": {"share": 0.7, "min_cpu": 4, "max_cpu": 200}, "spot": {"amount": 300}},
}
