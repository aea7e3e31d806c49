"""Reports of a run: JUnit XML for CI, Markdown for people (each case's frames and the check
that failed), and the counts per block."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence

from kilowatt.harness.runner import Result

__all__ = ["counts_by_block", "junit_xml", "markdown"]

_SHOWN_FRAMES = 200  # per case in a report; a longer exchange is cut, with a note


def counts_by_block(results: Sequence[Result]) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = {}
    for result in results:
        found.setdefault(result.case.block, Counter())[result.outcome] += 1
    return dict(sorted(found.items()))


def _frames(result: Result) -> str:
    lines = [
        f"{frame.at:8.3f}s {'->' if frame.direction == 'sent' else '<-'} {frame.text}"
        for frame in result.frames[:_SHOWN_FRAMES]
    ]
    if len(result.frames) > _SHOWN_FRAMES:
        lines.append(f"... {len(result.frames) - _SHOWN_FRAMES} more frames")
    return "\n".join(lines)


def junit_xml(results: Sequence[Result], suite: str) -> str:
    counts = Counter(result.outcome for result in results)
    root = ET.Element("testsuites")
    element = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(counts["failed"]),
        errors=str(counts["error"]),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        case = ET.SubElement(
            element,
            "testcase",
            classname=f"{suite}.{result.case.block}",
            name=result.case.id,
            time=f"{result.seconds:.3f}",
        )
        if result.outcome != "passed":
            tag = "failure" if result.outcome == "failed" else "error"
            detail = ET.SubElement(case, tag, message=result.message.splitlines()[0][:500])
            detail.text = result.message
        ET.SubElement(case, "system-out").text = _frames(result)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def markdown(results: Sequence[Result], title: str) -> str:
    counts = Counter(result.outcome for result in results)
    lines = [
        f"# {title}",
        "",
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['error']} errors "
        f"of {len(results)} cases.",
        "",
        "| block | passed | failed | errors |",
        "|---|---|---|---|",
    ]
    for block, found in counts_by_block(results).items():
        lines.append(f"| {block} | {found['passed']} | {found['failed']} | {found['error']} |")
    for result in results:
        case = result.case
        lines += [
            "",
            f"## {case.id}: {case.title} — {result.outcome}",
            "",
            f"Use cases {', '.join(case.use_cases)}"
            + (f"; requirements {', '.join(case.requirements)}" if case.requirements else "")
            + f"; {result.seconds:.2f} s.",
            "",
            case.steps,
        ]
        if result.message:
            lines += ["", "**What failed:** " + result.message.splitlines()[0]]
        for rule in result.violations:
            lines.append(f"- rule broken: {rule.rule}: {rule.detail}")
        if result.frames:
            lines += ["", "```", _frames(result), "```"]
    return "\n".join(lines) + "\n"
