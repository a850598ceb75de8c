"""What responders do in Slack, as steps the scenario tests compose."""

from __future__ import annotations

from bot.domain.incident import Incident
from bot.domain.models import Side
from tests.support.bot import BotUnderTest, eventually

ASSET_KIND_LABEL = "Failed asset: kind (if your asset failed)"
ASSET_NAME_LABEL = "Failed asset: name (if your asset failed)"
OWNER_LABEL = "Who owns the prevention work (if your asset failed)"


async def open_incident(bot: BotUnderTest, text: str = "open Churn scores collapsed sev2") -> Incident:
    title = text.removeprefix("open ").rsplit(" ", 1)[0]
    await bot.sb.slash_command(bot.team.commander, "/incident", text)

    async def opened() -> Incident | None:
        for incident in await bot.incidents():
            if incident.title == title and incident.opening.done:
                return incident
        return None

    found: Incident = await eventually(opened, what="incident opened")
    return found


async def set_evidence(
    bot: BotUnderTest, user: str, incident: Incident, ref: str, status: str, detail: str = "", link: str = ""
) -> None:
    """Click the item's Set button, fill the modal and save; waits until the record shows it."""
    await bot.sb.click(user, "Set", channel=incident.channel_id, value=f"{incident.id}|{ref}")
    await eventually(lambda: bot.sb.open_views(user), what="evidence modal")
    values = {"Status": status, "What you found": detail}
    if link:
        values["Link (dashboard, query, run)"] = link
    ack = await bot.sb.submit_view(user, values=values)
    assert ack.ok, ack
    assert not ack.errors, ack

    async def recorded() -> bool:
        item = (await bot.bot.store.get(incident.id)).evidence[ref]
        return item.status.label == status and item.detail == detail

    await eventually(recorded, what=f"{ref} recorded")


async def confirm(
    bot: BotUnderTest,
    user: str,
    incident: Incident,
    side: Side,
    verdict: str,
    asset: tuple[str, str] | None = None,
    owner: str | None = None,
) -> object:
    """Click "Confirm for <side>", choose the verdict in the modal and submit; returns the submit ack."""
    await bot.sb.click(user, f"Confirm for {side.label}", channel=incident.channel_id)
    await eventually(lambda: bot.sb.open_views(user), what="verdict modal")
    values: dict[str, object] = {f"{side.label} verdict": verdict}
    if asset:
        values[ASSET_KIND_LABEL] = asset[0]
        values[ASSET_NAME_LABEL] = asset[1]
    if owner:
        values[OWNER_LABEL] = owner
    return await bot.sb.submit_view(user, values=values)
