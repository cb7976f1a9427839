"""Application-level acknowledgement of downlinks: Conductor cannot confirm a multicast, so the
engine tracks each send device by device from the uplinks that follow, and finishes the job with
retries (docs/acknowledgement.md)."""
