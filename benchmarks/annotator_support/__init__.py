"""Helpers of ``benchmarks/annotator.py``: the test image and boxes, the JupyterLab harness, in-page probes."""
