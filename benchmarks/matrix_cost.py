"""What the bot costs on a real Synapse, beside a minimal reference: python -m benchmarks.matrix_cost [--commands 200]

The bot (`benchmarks.matrix_process bot`: consent-bot as `consent-bot run` runs it) and the reference
(benchmarks/matrix_reference.py: a bare matrix-nio bot) each run in a process of their own, on the same Synapse
(tests/matrix/synapse.py), each in its own room; the members' clients and Synapse run elsewhere, so that a
process's CPU time is its own work only.

- CPU per command: members (two by default) send `!agree #1`, `!disagree #1 …` and `!status #1` in turn, one at
  a time, each awaited until the answer (✅ or the reply) reaches them and the bot has gone quiet again (its own
  echo in the next sync included); the CPU time the process used meanwhile, read from outside
  (clock_getcpuclockid, every thread). Chunks of commands go to the bot and the reference in turn, so that the
  machine's drifts hit both alike; the first ones warm up and are not counted.
- Idle RSS: both processes restarted in the room holding the open proposals, after their first sync (the bot:
  and its recount of the open ballots) and some idle seconds: VmRSS from /proc/<pid>/status.

--profile DIR samples both processes with py-spy (`pip install py-spy`: a sampling profiler, reading the
process from outside, so that many small calls are not overweighted as under cProfile) during the counted commands
and prints their hotspots, in ms per command; samples are taken while a thread holds the GIL, so the time SQLite and
the kernel spend with the GIL released is not in them.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import re
import shutil
import signal
import statistics
from collections import Counter
import sys
import tempfile
import time
from pathlib import Path

from nio import ReactionEvent

from tests.matrix.bot_harness import bot_config, joined, propose, relates_to, room_with_bot
from tests.matrix.member import Member
from tests.matrix.synapse import Account, Synapse

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("!agree #1", "!disagree #1 not yet", "!status #1")
"""Taken in turn by the members (not a multiple of three of them): each alternates agree and disagree, so that
every vote changes, and asks for the status in between."""
CHUNK = 10
QUIET = 0.06
"""A process that used no CPU for this long is done with a command (its own echo handled too)."""
ASSEMBLY = {"language": "en", "minimum_duration": "72h", "working_days_only": True, "reminders": ["24h", "1h"]}
"""The default assembly settings (the test harness shortens them)."""

_libc = ctypes.CDLL(None, use_errno=True)


def cpu_clock(pid: int) -> int:
    """The clock of a process's CPU time, every thread's, in nanoseconds (clock_getcpuclockid(3))."""
    clock = ctypes.c_int()
    error = _libc.clock_getcpuclockid(pid, ctypes.byref(clock))
    if error:
        raise OSError(error, os.strerror(error))
    return clock.value


class Side:
    """The bot or the reference: its account, room and process."""

    def __init__(self, kind: str, label: str, folder: Path, account: Account, allowed: list[str],
                 profile: Path | None) -> None:
        self.kind, self.label = kind, label
        self.user_id = account.user_id
        (folder / kind).mkdir()
        bot_config(folder / kind, account, allowed, **ASSEMBLY)
        self.config = folder / kind / "config.yaml"
        self.log = folder / kind / "process.log"
        self.profile = profile / f"{kind}.py-spy.txt" if profile else None
        self.sampler: asyncio.subprocess.Process | None = None
        self.room = ""
        self.process: asyncio.subprocess.Process | None = None
        self._clock = 0

    async def start(self, within: float = 120) -> None:
        command = [sys.executable, "-m", "benchmarks.matrix_process", self.kind, str(self.config)]
        with open(self.log, "ab") as log:
            self.process = await asyncio.create_subprocess_exec(*command, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                                stderr=log, stdin=asyncio.subprocess.DEVNULL)
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), within)
        except asyncio.TimeoutError:
            line = b""
        if line.strip() != b"ready":
            await self.stop()
            tail = self.log.read_text(errors="replace").splitlines()[-20:]
            raise RuntimeError(f"the {self.label} did not start:\n" + "\n".join(tail))
        self._clock = cpu_clock(self.process.pid)

    def cpu(self) -> float:
        """Seconds of CPU the process used so far."""
        return time.clock_gettime(self._clock)

    async def quiet(self, limit: float = 3.0) -> float:
        """The process's CPU time once it has used none for QUIET seconds (or after ``limit`` seconds)."""
        began = last_change = time.perf_counter()
        last = self.cpu()
        while time.perf_counter() - last_change < QUIET and time.perf_counter() - began < limit:
            await asyncio.sleep(0.005)
            now = self.cpu()
            if now != last:
                last, last_change = now, time.perf_counter()
        return last

    def status(self, field: str) -> int:
        """A number of /proc/<pid>/status (VmRSS in KiB, voluntary_ctxt_switches, …)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise RuntimeError(f"no {field} in /proc/{self.process.pid}/status")

    def rss_mib(self) -> float:
        return self.status("VmRSS") / 1024

    def user_system(self) -> tuple[float, float]:
        """Seconds of CPU in user mode and in the kernel (/proc/<pid>/stat, in clock ticks)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / ticks, int(fields[12]) / ticks

    async def sample(self, py_spy: str) -> None:
        """Start sampling the process (py-spy, 1,000 samples a second while a thread holds the GIL)."""
        self.sampler = await asyncio.create_subprocess_exec(
            py_spy, "record", "--pid", str(self.process.pid), "--gil", "--rate", "1000", "--nonblocking",
            "--format", "raw", "--output", str(self.profile), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)

    async def stop_sampling(self) -> None:
        self.sampler.send_signal(signal.SIGINT)  # py-spy writes what it sampled, then exits
        await asyncio.wait_for(self.sampler.wait(), 30)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 20)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()


def answered(side: Side, asked: str):
    """A predicate: the side's ✅ on the command, or its reply to it."""
    def matches(event) -> bool:
        if event.sender != side.user_id:
            return False
        if isinstance(event, ReactionEvent):
            return event.reacts_to == asked and event.key == "✅"
        return relates_to(event).get("m.in_reply_to", {}).get("event_id") == asked
    return matches


async def command(side: Side, alice: Member, member: Member, line: str, element: bool,
                  before: float) -> tuple[float, float, float]:
    """(CPU seconds, wall seconds, the process's CPU time after) of one command, sent and answered, from the
    process's CPU time ``before`` it (read once it was quiet: the end of the command before), so that whatever the
    process does between two commands counts in one of them; with ``element``, the member's client also says it
    is typing, then no longer, and sends a read receipt for the answer, as Element does. Alice's client sees the
    answer (the other members' clients need not sync)."""
    began = time.perf_counter()
    if element:
        await member.client.room_typing(side.room, True)
    asked = await member.send_text(side.room, line)
    if element:
        await member.client.room_typing(side.room, False)
    answer = await alice.wait_for(answered(side, asked), room=side.room, timeout=30)
    wall = time.perf_counter() - began
    if element:
        await member.client.room_read_markers(side.room, answer.event_id, answer.event_id)
    after = await side.quiet()
    return after - before, wall, after


def describe(values: list[float]) -> str:
    return f"mean {statistics.fmean(values) * 1000:.2f} ms, p50 {statistics.median(values) * 1000:.2f} ms"


FRAME = re.compile(r" \((.*?):\d+\)$")
BOILERPLATE = ("runpy", "matrix_process.py", "asyncio/runners.py", "run_until_complete", "run_forever")


def hotspots(path: Path, label: str, cpu_per_command: float, count: int = 25) -> None:
    """The functions the samples were in (with what they called) and at the top of the stack (their own code), as
    ms of CPU per command: their share of the samples times the CPU per command measured."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = [FRAME.sub(lambda m: f" ({m.group(1)})", frame) for frame in stack.split(";")]
        total += int(samples)
        for frame in set(frames):
            inclusive[frame] += int(samples)
        own[frames[-1]] += int(samples)
    if not total:
        print(f"\n{label}: no samples")
        return
    scale = cpu_per_command * 1000 / total
    print(f"\n{label}: where its CPU goes, ms per command ({total} samples)")
    shown = [(frame, n) for frame, n in inclusive.most_common() if not any(b in frame for b in BOILERPLATE)]
    for frame, samples in shown[:count]:
        print(f"  {samples * scale:6.2f} with callees, {own[frame] * scale:5.2f} own  {frame}")
    print("  own time, the most:")
    for frame, samples in own.most_common(count // 2):
        print(f"  {samples * scale:6.2f}  {frame}")


async def open_rooms(members: list[Member], sides: list[Side], proposals: int) -> None:
    """Each side started, in a room of its own with the members; the bot's room with open proposals."""
    alice = members[0]
    for side in sides:
        await side.start()
        side.room = await room_with_bot(alice, side.user_id, *members[1:])
    bot = sides[0]
    began = time.perf_counter()
    for number in range(1, proposals + 1):
        await propose(alice, bot.room, bot.user_id, f"!propose Proposal {number}", number)
    print(f"{proposals} proposals opened in {time.perf_counter() - began:.1f} s")


def counters(side: Side) -> tuple[float, float, int]:
    return *side.user_system(), side.status("voluntary_ctxt_switches")


async def cpu_per_command(members: list[Member], sides: list[Side], commands: int, warmup: int, element: bool,
                          py_spy: str | None) -> dict[str, float]:
    """Seconds of CPU per command, each side's mean."""
    turns = [(members[i % len(members)], COMMANDS[i % 3]) for i in range(warmup + commands)]
    cpu: dict[str, list[float]] = {side.kind: [] for side in sides}
    wall: dict[str, list[float]] = {side.kind: [] for side in sides}
    for side in sides:
        reading = await side.quiet()
        for member, line in turns[:warmup]:
            *_, reading = await command(side, members[0], member, line, element, reading)
    if py_spy:
        for side in sides:
            await side.sample(py_spy)
    at_start = {side.kind: counters(side) for side in sides}
    for start in range(warmup, len(turns), CHUNK):
        for side in sides:
            reading = await side.quiet()
            for member, line in turns[start:start + CHUNK]:
                used, took, reading = await command(side, members[0], member, line, element, reading)
                cpu[side.kind].append(used)
                wall[side.kind].append(took)
    at_end = {side.kind: counters(side) for side in sides}
    if py_spy:
        for side in sides:
            await side.stop_sampling()
    busy = {side.kind: side.rss_mib() for side in sides}
    ratio = statistics.fmean(cpu["bot"]) / statistics.fmean(cpu["reference"])
    print(f"CPU per command, the process's own ({commands} commands after {warmup} to warm up"
          f"{', typing notices and read receipts too' if element else ''}): consent-bot {describe(cpu['bot'])}; "
          f"reference {describe(cpu['reference'])}; consent-bot uses {ratio:.1f}x the reference's")
    for side in sides:
        user, system, waits = (b - a for a, b in zip(at_start[side.kind], at_end[side.kind]))
        print(f"  {side.label}: user {user / commands * 1000:.2f} ms, kernel {system / commands * 1000:.2f} ms, "
              f"{waits / commands:.1f} waits (the event loop's thread blocked) per command")
    counted = [line for _, line in turns[warmup:]]  # what each counted command was, in the order measured
    for side in sides:
        each = {line.split()[0]: statistics.fmean(c for c, said in zip(cpu[side.kind], counted) if said == line)
                for line in COMMANDS}
        print(f"  {side.label}, mean per kind: "
              + ", ".join(f"{verb} {used * 1000:.2f} ms" for verb, used in each.items()))
    print(f"  command → answer (wall): consent-bot p50 {statistics.median(wall['bot']) * 1000:.0f} ms, "
          f"reference p50 {statistics.median(wall['reference']) * 1000:.0f} ms; RSS after the commands: "
          f"consent-bot {busy['bot']:.1f} MiB, reference {busy['reference']:.1f} MiB")
    return {kind: statistics.fmean(values) for kind, values in cpu.items()}


async def idle_rss(alice: Member, sides: list[Side], proposals: int, idle: float) -> None:
    """Both restarted in the bot's room, with its open proposals, then left alone."""
    bot, reference = sides
    await alice.invite(bot.room, reference.user_id)
    await alice.wait_for(joined(reference.user_id), room=bot.room, timeout=30)
    for side in sides:
        await side.stop()
    for side in sides:
        await side.start()
    before = {side.kind: side.cpu() for side in sides}
    await asyncio.sleep(idle)
    rss = {side.kind: side.rss_mib() for side in sides}
    quiet = {side.kind: (side.cpu() - before[side.kind]) * 1000 for side in sides}
    print(f"idle RSS (restarted, first sync, {idle:.0f} s idle, {proposals} open proposals in the room): "
          f"consent-bot {rss['bot']:.1f} MiB, reference {rss['reference']:.1f} MiB "
          f"({rss['bot'] / rss['reference']:.1f}x); CPU while idle: consent-bot {quiet['bot']:.0f} ms, "
          f"reference {quiet['reference']:.0f} ms")


async def main(commands: int, warmup: int, proposals: int, idle: float, profile: Path | None,
               element: bool, members_count: int) -> None:
    py_spy = None
    if profile:
        py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
        if not py_spy:
            raise SystemExit("--profile needs py-spy: pip install py-spy")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        synapse = Synapse(folder / "synapse")
        synapse.start()
        print(f"synapse started in {synapse.started_in:.1f} s")
        sides: list[Side] = []
        members: list[Member] = []
        try:
            names = ["bot", "ref", "alice", *(f"member{i}" for i in range(2, members_count + 1))]
            accounts = [await synapse.register(Synapse.unique_localpart(name)) for name in names]
            members = [await Member(accounts[2]).start(), *(Member(account) for account in accounts[3:])]
            alice = members[0]
            sides = [Side("bot", "consent-bot", folder, accounts[0], [alice.user_id], profile),
                     Side("reference", "reference", folder, accounts[1], [alice.user_id], profile)]
            await open_rooms(members, sides, proposals)
            cpu = await cpu_per_command(members, sides, commands, warmup, element, py_spy)
            await idle_rss(alice, sides, proposals, idle)
            if py_spy:
                for side in sides:
                    hotspots(side.profile, side.label, cpu[side.kind])
        finally:
            for side in sides:
                await side.stop()
            for member in members:
                await member.close()
            synapse.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200, help="counted commands, for each side")
    parser.add_argument("--warmup", type=int, default=20, help="commands before counting, for each side")
    parser.add_argument("--proposals", type=int, default=20, help="open proposals in the bot's room")
    parser.add_argument("--idle", type=float, default=30, help="seconds idle before the RSS is read")
    parser.add_argument("--profile", type=Path, help="a folder for the profiles (py-spy) of both processes")
    parser.add_argument("--members", type=int, default=2, help="members sending commands in turn (not 3, 6, …)")
    parser.add_argument("--element", action="store_true",
                        help="members' clients send typing notices and read receipts too, as Element does")
    options = parser.parse_args()
    if options.members % 3 == 0:
        parser.error("--members: not a multiple of 3, or a member would only ever send the same command")
    if options.profile:
        options.profile = options.profile.resolve()
        options.profile.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(options.commands, options.warmup, options.proposals, options.idle, options.profile,
                     options.element, options.members))
