"""First-round scoring inside ProjectWorkflow: assigned judges submit rubric sheets as validated updates."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.calendar import window_of
    from domain.scoring import Rubric
    from domain.stages import Outcome, Stage
    from workflows.contracts import ScoreRecord, ScoreSubmission
    from workflows.core import ProjectCore
    from workflows.errors import rejection


class FirstRoundScoring(ProjectCore):
    """Mixed into ProjectWorkflow; the attributes below are the workflow's own."""

    _outcome: Outcome | None
    _judges: set[str]
    _scores: dict[str, list[ScoreRecord]]

    @workflow.signal
    def judges_assigned(self, judges: list[str]) -> None:
        """The judges who may score this project (the organisers' saved assignment)."""
        self._judges = set(judges)

    @workflow.update
    def submit_score(self, sheet: ScoreSubmission) -> ScoreRecord:
        """Keep the sheet as a new version of this judge's score; earlier versions stay."""
        rubric = Rubric(tuple(self._start.rubric))
        history = self._scores.setdefault(sheet.judge, [])
        record = ScoreRecord(
            sheet.judge,
            len(history) + 1,
            dict(sheet.values),
            round(rubric.total(sheet.values), 4),
            sheet.comment.strip(),
            workflow.now(),
        )
        history.append(record)
        return record

    @submit_score.validator
    def validate_submit_score(self, sheet: ScoreSubmission) -> None:
        """Only an assigned judge, only while the first round is open, only a complete sheet within the ranges."""
        if self._outcome is not None:
            raise rejection("project_closed", "项目已结束", "the project has ended")
        if sheet.judge not in self._judges:
            raise rejection("not_assigned", "您未被分配评审该项目", "you are not assigned to this project")
        window = window_of(self._calendar, Stage.FIRST_ROUND_REVIEW)
        if self._stage is not Stage.FIRST_ROUND_REVIEW or not window.opens_at <= workflow.now() < window.closes_at:
            raise rejection("scoring_closed", "初赛评分未开放或已截止", "first-round scoring is not open")
        problems = Rubric(tuple(self._start.rubric)).problems(sheet.values)
        if problems:
            raise rejection(
                "invalid_score",
                f"评分表有误：{'，'.join(problems)}",
                f"the score sheet is invalid: {', '.join(problems)}",
            )

    @workflow.query
    def scores(self) -> list[ScoreRecord]:
        """Every version of every sheet (the API shows a judge only their own, teams none)."""
        return [record for history in self._scores.values() for record in history]
