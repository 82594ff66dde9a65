"""≥ 50 seeded kill -9 points during writes; no acknowledged write is lost (issue 5).

Two 3-member reference ensembles take Sets from four client threads through
every member while :func:`harness.crash.kill_campaign` kills the leader or a
follower (seeded choice, seeded moment) 25 times each, restarting it on its
data directory. Afterwards every acknowledged write must be committed on
every member and the committed logs and data must agree (spec §6.7: a
reply means committed; ``harness.checker``).

The seed is printed and written into the failure message; replay one with
``GMC_CRASH_SEED=<seed> pytest tests/refnode/io/test_kill9_campaign.py``
(part 1 runs ``<seed> + 1``).
``GMC_CRASH_KILLS`` raises the number of kill points (the soak, see
``tests/refnode/io/soak.py``, runs many seeds for longer).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness.crash import SEED_ENV, campaign_seed, kill_campaign
from harness.targets import RefnodeTarget, start_stable_ensemble
from harness.workload import Workload, check_members

KILLS = int(os.environ.get("GMC_CRASH_KILLS", "50"))
PARTS = 2
"""The kill points are split over two ensembles so xdist can run them side by side."""
BASE_SEED = campaign_seed()


@pytest.mark.parametrize("part", range(PARTS))
def test_RefnodeEnsemble_50_kill9_points_lose_no_acknowledged_write(
    tmp_path: Path, part: int
) -> None:
    """Spec §6 (persist before send) and §6.7: kill -9 at 50 seeded points
    in all (``PARTS`` ensembles with seeds ``BASE_SEED + part``)."""
    kills = -(-KILLS // PARTS)
    seed = BASE_SEED + part
    print(f"kill campaign seed {seed} (replay: {SEED_ENV}={seed})")
    ens = start_stable_ensemble(RefnodeTarget(), 3, tmp_path)
    load = Workload([m.config.host.request for m in ens.members], threads=4, call_timeout=3.0)
    try:
        load.start()
        try:
            report = kill_campaign(ens, load, seed=seed, kills=kills, max_pause=0.25)
            # Writes must still commit after the last kill.
            load.wait_acks(load.ack_count + 20, timeout=20)
        finally:
            load.stop()
        print(report.summary(), f"acked={len(load.acked)} failed={len(load.failures)}")
        assert len(report.kills) == kills and kills * PARTS >= 50
        assert any(k.was_leader for k in report.kills)
        assert any(not k.was_leader for k in report.kills)
        # Acknowledgements kept arriving between kills, not only before the first.
        acks_at = [k.acks_before for k in report.kills]
        assert acks_at[-1] > acks_at[0]
        t0 = time.monotonic()
        try:
            check_members(ens.members, load.acked, timeout=20)
        except AssertionError as exc:
            raise AssertionError(f"{SEED_ENV}={seed}: {exc}") from exc
        print(f"checked {len(load.acked)} acknowledged writes in {time.monotonic() - t0:.2f}s")
    finally:
        ens.stop()
