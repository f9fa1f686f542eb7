"""The performance dashboard (``p.performance(...)``): task flow, daily work and time, and a table per
person, aggregated in SQL from the event log and kept live by reading new events by id."""

from labnb.performance.methods import PerformanceMethods

__all__ = ["PerformanceMethods"]
