"""How the bench's results read: the table printed at the end, its figures' formats."""

from __future__ import annotations


def rate(x: float | None) -> str:
    if x is None:
        return "-"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g}{unit}"
    return f"{x:.3g}"


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _mib(x: int | None) -> str:
    return "-" if x is None else f"{x / 2**20:.0f}"


def _signed_mib(x: int | None) -> str:
    return "-" if x is None else f"{x / 2**20:+.1f}"


def learner_rate(row: dict) -> tuple[str, float | None]:
    """The learner of a row's measurement 4 ("ppo", "sac" or "td3") and its env steps per second."""
    if "off_policy_algorithm" in row:
        return row["off_policy_algorithm"], row["off_policy_env_steps_per_s"]
    return "ppo", row["ppo_env_steps_per_s"]


def format_table(result: dict) -> str:
    """A compact table of the rows: env steps per second of each measurement and the ratios."""
    learners = sorted({learner_rate(r)[0] for r in result["rows"]}) or ["ppo"]
    head = (
        "task",
        "worlds",
        "1 raw",
        "physics/s",
        "2 random",
        "3 policy",
        f"4 {'/'.join(learners)}",
        "2/1",
        "4/2",
        "torch MiB",
        "warp MiB",
    )
    lines = [head]
    for r in result["rows"]:
        mem = r["memory"]
        flag = " !" if r["capacity_errors"] else ""
        lines.append(
            (
                r["task"]
                + (" +compiled" if r.get("compile_managers") else "")
                + {"positions_velocities": " +posvel", "none": " +noforward"}.get(r.get("reset_forward"), "")
                + flag,
                str(r["num_envs"]),
                rate(r["raw_env_steps_per_s"]),
                rate(r["raw_physics_steps_per_s"]),
                rate(r["env_steps_per_s_random"]),
                rate(r["env_steps_per_s_policy"]),
                rate(learner_rate(r)[1]),
                _ratio(r["env_over_raw"]),
                _ratio(r.get("off_policy_over_env") if "off_policy_algorithm" in r else r["ppo_over_env"]),
                _mib(mem["torch_peak_bytes"]),
                _mib(mem.get("warp_pool_high_bytes")),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
        for line in lines
    ]
    s = result["startup"]
    cache = "warm" if s["kernel_cache_warm"] else f"cold ({s['kernel_cache_new_entries']} new entries)"
    text += [
        f"{result['card']}; env steps per second (physics/s: MuJoCo steps per second in 1); "
        f"first env step {s['seconds_to_first_env_step']:.1f} s after the command started, Warp kernel cache {cache}",
    ]
    for r in result["rows"]:
        if r.get("ppo_graphed_env_steps_per_s"):
            text.append(
                f"{r['task']} x {r['num_envs']}: PPO with the update as a CUDA graph "
                f"{rate(r['ppo_graphed_env_steps_per_s'])} env steps/s (4/2 {_ratio(r['ppo_graphed_over_env'])}; "
                f"update {r['ppo_graphed_learning_s_per_iteration']:.3f} s an iteration, plain "
                f"{r['ppo_learning_s_per_iteration']:.3f} s)"
            )
    for r in result["rows"]:
        if "off_policy_algorithm" in r:
            text.append(_off_policy_line(r))
    for r in result["rows"]:
        grown = r.get("memory_over_steps")
        if grown:
            g = grown["growth_bytes"]
            text.append(
                f"{r['task']} x {r['num_envs']}: memory growth over {grown['env_steps']:,} env steps: "
                f"torch {_signed_mib(g['torch_bytes'])}, Warp pool {_signed_mib(g['warp_pool_bytes'])}, "
                f"device {_signed_mib(g['device_used_bytes'])} MiB"
            )
    if any(r["capacity_errors"] for r in result["rows"]):
        text.append(
            "! contacts or constraints overflowed: those figures are wrong (see capacity_errors in the JSON)"
        )
    return "\n".join(text)


def _off_policy_line(r: dict) -> str:
    """One line under the table for a SAC or TD3 row: its updates and their share of the time."""
    share = r["off_policy_update_share"]
    line = (
        f"{r['task']} x {r['num_envs']}: {r['off_policy_algorithm'].upper()} "
        f"{rate(r['off_policy_env_steps_per_s'])} env steps/s with "
        f"{r['off_policy_updates_per_iteration']:.3g} updates an iteration of {r['off_policy_steps_per_env']} steps "
        f"(batch {r['off_policy_batch_size']}, replay ratio {r['off_policy_replay_ratio']:g}), "
        f"updates {'-' if share is None else f'{100 * share:.0f} %'} of the time"
    )
    if r.get("off_policy_graphed_env_steps_per_s"):
        line += (
            f"; with the update as CUDA graphs {rate(r['off_policy_graphed_env_steps_per_s'])} env steps/s "
            f"(update {r['off_policy_graphed_learning_s_per_iteration']:.3f} s an iteration, plain "
            f"{r['off_policy_learning_s_per_iteration']:.3f} s)"
        )
    return line
