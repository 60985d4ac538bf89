"""The base of Kontor's eventsourcing applications: configuration only from what is passed in.

eventsourcing's ``Application`` merges ``os.environ`` into its environment; Kontor's settings are
read once by the composition root, so applications here see only the environment they are given.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import Environment, EnvType


class KontorApplication(Application[UUID]):
    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        merged = dict(type(self).env)
        if type(self).is_snapshotting_enabled or type(self).snapshotting_intervals:
            merged["IS_SNAPSHOTTING_ENABLED"] = "y"
        if env is not None:
            merged.update(env)
        return Environment(name, merged)
