"""Scoring inside ProjectWorkflow, first round and final: assigned judges submit rubric sheets as validated updates."""

from __future__ import annotations

from dataclasses import replace

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import FinalResult, FirstRoundResult, ScoreRow
    from activities.review import ReviewActivities
    from domain.calendar import window_of
    from domain.scoring import Rubric
    from domain.stages import Outcome, Stage
    from workflows.contracts import ReviewerState, ScoreRecord, ScoreSubmission
    from workflows.core import ProjectCore
    from workflows.errors import rejection


FIRST_ROUND = "first_round"


class FirstRoundScoring(ProjectCore):
    """Mixed into ProjectWorkflow; the attributes below are the workflow's own."""

    _outcome: Outcome | None
    _judges: set[str]
    _scores: dict[str, list[ScoreRecord]]
    _reviewers: dict[str, ReviewerState]
    _result: FirstRoundResult | None
    _review_version: int
    _round: str
    _final_scores: dict[str, list[ScoreRecord]]
    _final_result: FinalResult | None

    @workflow.signal
    def judges_assigned(self, judges: list[str]) -> None:
        """Judges without due dates: kept so histories recorded before `reviewers_assigned` replay."""
        self._judges = set(judges)

    @workflow.update
    async def submit_score(self, sheet: ScoreSubmission) -> ScoreRecord:
        """Keep the sheet as a new version of this judge's score (earlier versions stay) and in the database."""
        rubric = Rubric(tuple(self._start.rubric))
        first = self._round == FIRST_ROUND
        history = (self._scores if first else self._final_scores).setdefault(sheet.judge, [])
        earlier = 0 if first else len(self._scores.get(sheet.judge, []))  # versions number on across the rounds
        record = ScoreRecord(
            sheet.judge,
            earlier + len(history) + 1,
            dict(sheet.values),
            round(rubric.total(sheet.values), 4),
            sheet.comment.strip(),
            workflow.now(),
            self._round,
        )
        history.append(record)
        reviewer = self._reviewers.get(sheet.judge)
        if reviewer is not None:  # judges with due dates came with the first-round tasks; their scores are stored
            self._reviewers[sheet.judge] = replace(reviewer, state="submitted")
            self._review_version += 1
            row = ScoreRow(
                self._start.project_id,
                sheet.judge,
                record.version,
                record.values,
                record.total,
                record.comment,
                record.submitted_at,
                self._round,
            )
            await self._store(ReviewActivities.record_score, row, f"store score v{record.version}")
        return record

    @submit_score.validator
    def validate_submit_score(self, sheet: ScoreSubmission) -> None:
        """Only an assigned judge, only while the first round is open, only a complete sheet within the ranges."""
        if self._outcome is not None:
            raise rejection("project_closed", "项目已结束", "the project has ended")
        reviewer = self._reviewers.get(sheet.judge)
        if sheet.judge not in self._judges or (
            reviewer is not None and reviewer.state not in ("assigned", "submitted")
        ):
            raise rejection("not_assigned", "您未被分配评审该项目", "you are not assigned to this project")
        stage = Stage.FIRST_ROUND_REVIEW if self._round == FIRST_ROUND else Stage.FINAL_REVIEW
        window = window_of(self._calendar, stage)
        open_now = self._stage is stage and window.opens_at <= workflow.now() < window.closes_at
        decided = self._result if self._round == FIRST_ROUND else self._final_result
        if not open_now or decided is not None:
            label = "初赛" if stage is Stage.FIRST_ROUND_REVIEW else "决赛"
            raise rejection("scoring_closed", f"{label}评分未开放或已截止", f"{stage.value} scoring is not open")
        if reviewer is not None and reviewer.state == "submitted" and workflow.now() >= reviewer.due_at:
            raise rejection(
                "review_due_passed",
                "评审截止时间已过，不能再修改评分",
                "your due date has passed; the score can't be amended",
            )
        problems = Rubric(tuple(self._start.rubric)).problems(sheet.values)
        if problems:
            raise rejection(
                "invalid_score",
                f"评分表有误：{'，'.join(problems)}",
                f"the score sheet is invalid: {', '.join(problems)}",
            )

    @workflow.query
    def scores(self) -> list[ScoreRecord]:
        """Every version of every sheet of both rounds (the API shows a judge only their own, teams none)."""
        rounds = (self._scores, self._final_scores)
        return [record for scores in rounds for history in scores.values() for record in history]
