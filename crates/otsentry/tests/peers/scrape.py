"""Scrapes a sensor's /health and /metrics; the metrics are read with prometheus_client's
own parser, so a format mistake fails here. Prints `health STATUS [BODY]`, then one
`name|labels|value` line per sample."""
import sys
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

base = sys.argv[1]
try:
    with urllib.request.urlopen(base + "/health", timeout=5) as r:
        print("health", r.status, r.read().decode().strip().replace("\n", "|"))
except urllib.error.HTTPError as e:
    print("health", e.code, e.read().decode().strip().replace("\n", "|"))
with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers["Content-Type"]
    text = r.read().decode()
for family in text_string_to_metric_families(text):
    for s in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        print(f"{s.name}|{labels}|{s.value:g}")
