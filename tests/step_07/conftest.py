"""Step 07 fixtures: step 06's flaky upstream, for the reader's app's /retry endpoint."""

from ..step_06.conftest import FlakyUpstream, upstream

__all__ = ["FlakyUpstream", "upstream"]
