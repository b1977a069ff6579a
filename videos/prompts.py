"""Prompt enhancement (business-rules.md): `ASMR video: <prompt>` plus the chosen triggers' descriptions."""

from django.conf import settings

TRIGGER_DESCRIPTIONS = {
    "soap": "soap cutting and squishing sounds",
    "sponge": "sponge squeezing and soft textures",
    "ice": "ice cracking and melting sounds",
    "water": "gentle water flowing and dripping",
    "honey": "viscous honey pouring and dripping",
    "cubes": "satisfying cube cutting and arrangements",
    "petals": "soft flower petals and gentle touches",
    "pages": "paper rustling and page turning sounds",
}
PREFIX = "ASMR video: "


def prompt_enhance(*, prompt: str, triggers: list[str]) -> str:
    """Known triggers become their descriptions, other plain words are used as they are.

    The result must fit KIE's prompt limit: the user's part is shortened (at a word boundary) to fit.
    """
    extras = [TRIGGER_DESCRIPTIONS.get(word, word) for word in triggers]
    suffix = (". Featuring " + ", ".join(extras) + ".") if extras else ""
    room = settings.KIE_PROMPT_MAX_CHARS - len(PREFIX) - len(suffix)
    text = prompt.strip()
    if len(text) > room:
        cut = text[:room]
        text = (cut.rsplit(" ", 1)[0] if " " in cut[room // 2 :] else cut).rstrip(" ,.;:")
    if extras:
        text = text.rstrip(" .")
    return f"{PREFIX}{text}{suffix}"
