"""The seeded model catalogue and prompt templates as data (migration 0005 seeds the same rows; it keeps its
own copy so that it keeps meaning what it meant when written).

`catalogue_ensure()` recreates missing rows without touching staff edits: used by tests whose transactional
flush empties the tables, and safe to run on a live database.
"""

from videos.models import GenerationModel, ModelPrice, PromptTemplate

MODELS = [
    {
        "code": "runway",
        "name": "Runway",
        "description": "Fast, affordable clips; 5 s in 720p or 1080p, 8 s in 720p; an optional start image.",
        "kie_api": "runway",
        "provider_model": "",
        "durations": [5, 8],
        "qualities": ["720p", "1080p"],
        "aspect_ratios": ["16:9", "4:3", "1:1", "3:4", "9:16"],
        "max_images": 1,
        "sort_order": 10,
        "prices": [(5, "720p", 20), (5, "1080p", 25), (8, "720p", 30)],
    },
    {
        "code": "veo3_fast",
        "name": "Veo 3.1 Fast",
        "description": "Google Veo 3.1, fast variant: 8 s with sound; from text, one image or first and last frames.",
        "kie_api": "veo",
        "provider_model": "veo3_fast",
        "durations": [8],
        "qualities": ["720p", "1080p"],
        "aspect_ratios": ["16:9", "9:16"],
        "max_images": 2,
        "sort_order": 20,
        "prices": [(8, "720p", 60), (8, "1080p", 60)],
    },
    {
        "code": "veo3",
        "name": "Veo 3.1 Quality",
        "description": "Google Veo 3.1 at its best quality: 8 s with sound; from text, one image or two frames.",
        "kie_api": "veo",
        "provider_model": "veo3",
        "durations": [8],
        "qualities": ["720p", "1080p"],
        "aspect_ratios": ["16:9", "9:16"],
        "max_images": 2,
        "sort_order": 30,
        "prices": [(8, "720p", 300), (8, "1080p", 300)],
    },
]

# (slug, title, prompt, triggers, suggested model)
TEMPLATES = [
    (
        "kinetic-sand-slicing",
        "Kinetic sand slicing",
        "Close-up of a sharp knife slicing through a tall block of pastel kinetic sand on a marble tray, "
        "each slice crumbling softly, soft daylight, shallow depth of field",
        ["cubes"],
        "runway",
    ),
    (
        "soap-cube-carving",
        "Soap cube carving",
        "Macro shot of lavender soap cubes being carved into thin curls with a small blade, curls falling "
        "onto a wooden board, warm studio light",
        ["soap"],
        "runway",
    ),
    (
        "honeycomb-crunch",
        "Honeycomb crunch",
        "Extreme close-up of a spoon pressing into golden honeycomb, wax cells cracking and honey slowly "
        "oozing out, backlit, slow motion",
        ["honey"],
        "veo3_fast",
    ),
    (
        "rain-on-window",
        "Rain on a cabin window",
        "Raindrops running down a cabin window at dusk, a candle flickering inside, pine forest blurred "
        "behind the glass, gentle steady rain sounds",
        ["water"],
        "veo3_fast",
    ),
    (
        "page-turning-library",
        "Old book page turning",
        "Hands slowly turning the thick yellowed pages of an old leather book in a quiet library, dust "
        "motes in a beam of light, soft paper rustling",
        ["pages"],
        "runway",
    ),
    (
        "slime-poke",
        "Glossy slime poking",
        "Fingers slowly poking and stretching glossy clear slime with tiny glitter, bubbles popping, "
        "top-down shot on a white desk",
        ["slime"],
        "runway",
    ),
    (
        "ice-crushing",
        "Ice block crushing",
        "A wooden mallet gently crushing a clear ice block into shards on a dark slate surface, crystals "
        "scattering, cold blue light, slow motion",
        ["ice"],
        "veo3_fast",
    ),
    (
        "brush-on-microphone",
        "Soft brush sweeps",
        "A fluffy makeup brush sweeping slowly across a studio microphone covered in a foam windscreen, "
        "dim warm light, calm and intimate",
        ["brushing"],
        "veo3",
    ),
    (
        "matcha-whisking",
        "Matcha whisking",
        "Overhead shot of a bamboo whisk frothing bright green matcha in a ceramic bowl, fine foam forming, "
        "steam rising, morning light",
        ["water"],
        "veo3",
    ),
    (
        "fire-crackle",
        "Crackling fireplace",
        "A log fire crackling in a stone fireplace at night, embers glowing and sparks drifting up, a "
        "knitted blanket in the foreground, cozy and still",
        ["crackling"],
        "veo3",
    ),
]


def catalogue_ensure() -> None:
    codes = [entry["code"] for entry in MODELS]
    slugs = [template[0] for template in TEMPLATES]
    if GenerationModel.objects.filter(code__in=codes).count() == len(codes) and PromptTemplate.objects.filter(
        slug__in=slugs
    ).count() == len(slugs):
        return  # the common case: one query pair, nothing to write
    by_code = {}
    for entry in MODELS:
        fields = {key: value for key, value in entry.items() if key not in ("code", "prices")}
        model, created = GenerationModel.objects.get_or_create(code=entry["code"], defaults=fields)
        by_code[model.code] = model
        if created:
            for duration, quality, credits in entry["prices"]:
                ModelPrice.objects.get_or_create(
                    model=model, duration=duration, quality=quality, defaults={"credits": credits}
                )
    for order, (slug, title, prompt, triggers, model_code) in enumerate(TEMPLATES):
        PromptTemplate.objects.get_or_create(
            slug=slug,
            defaults={
                "title": title,
                "prompt": prompt,
                "triggers": triggers,
                "suggested_model": by_code.get(model_code),
                "sort_order": order * 10,
            },
        )
