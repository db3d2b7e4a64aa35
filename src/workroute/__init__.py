"""workroute: a self-hosted engine for Workflow Rules, Flow Orchestration and Omni-Channel."""

from workroute.kernel.clock import Clock, ManualClock, SystemClock
from workroute.kernel.errors import WorkrouteError

__all__ = ["Clock", "ManualClock", "SystemClock", "WorkrouteError"]
__version__ = "0.1.0"
