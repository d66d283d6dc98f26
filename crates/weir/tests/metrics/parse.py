"""Reads Prometheus text from stdin with the official Python client's parser (which refuses
what Prometheus would not read) and prints every sample as JSON: name, labels, value, and the
type of its family."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        samples.append({"name": s.name, "labels": s.labels, "value": s.value, "type": family.type})
json.dump(samples, sys.stdout)
