"""The pipeline: workers that draft, auto-approve and post replies, exactly once.

Modules: `claims` (leases and compare-and-set claims), `poster` (the one place that writes
replies to platforms), `reaper` (recovers expired posting leases by reading the platform),
`autoapprove` (the opt-in rules), `control` (the kill switch), `worker` (the loop and its step
registry). Kept free of imports here so the store can load `pipeline.models` without cycles.
"""
