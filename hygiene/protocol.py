"""The default disinfection protocol, used when a cabin's configuration lists no steps:
an empty checklist would make a "logged disinfection" meaningless. config/demo.toml spells
the same protocol out."""

from __future__ import annotations

from hygiene.config import ProtocolStep


def default_steps() -> list[ProtocolStep]:
    return [ProtocolStep.model_validate(s) for s in DEFAULT_STEPS]


DEFAULT_STEPS: list[dict[str, object]] = [
    {
        "id": "siege",
        "label_fr": "Désinfecter l'assise, le dossier et les accoudoirs du siège",
        "label_en": "Disinfect the seat, backrest and armrests",
        "contact_time_s": 60,
    },
    {
        "id": "ecran",
        "label_fr": "Essuyer l'écran tactile (lingette sans alcool)",
        "label_en": "Wipe the touchscreen (alcohol-free wipe)",
        "contact_time_s": 60,
    },
    {
        "id": "poignees",
        "label_fr": "Désinfecter les poignées de porte, intérieure et extérieure",
        "label_en": "Disinfect the inner and outer door handles",
        "contact_time_s": 60,
    },
    {
        "id": "bureau",
        "label_fr": "Désinfecter le plan de travail et le support des instruments",
        "label_en": "Disinfect the desk and the instrument tray",
        "contact_time_s": 60,
    },
    {
        "id": "dechets",
        "label_fr": "Vider la poubelle et remettre un sac neuf",
        "label_en": "Empty the bin and put in a new bag",
        "consumables": ["sac poubelle"],
    },
    {
        "id": "brassard",
        "label_fr": "Désinfecter le brassard du tensiomètre (face interne) et son tuyau",
        "label_en": "Disinfect the blood pressure cuff (inner side) and its tube",
        "when_used": ["blood_pressure"],
        "contact_time_s": 60,
    },
    {
        "id": "thermometre",
        "label_fr": (
            "Jeter le protège-sonde, désinfecter le thermomètre, mettre un protège-sonde neuf"
        ),
        "label_en": "Discard the probe cover, disinfect the thermometer, fit a new probe cover",
        "when_used": ["thermometer"],
        "contact_time_s": 30,
        "consumables": ["protège-sonde"],
    },
    {
        "id": "oxymetre",
        "label_fr": "Désinfecter la pince de l'oxymètre, intérieur compris",
        "label_en": "Disinfect the oximeter clip, inside included",
        "when_used": ["pulse_oximeter"],
        "contact_time_s": 60,
    },
    {
        "id": "otoscope",
        "label_fr": (
            "Jeter le spéculum de l'otoscope, désinfecter le manche, placer un spéculum neuf"
        ),
        "label_en": "Discard the otoscope speculum, disinfect the handle, fit a new speculum",
        "when_used": ["otoscope"],
        "contact_time_s": 30,
        "consumables": ["spéculum auriculaire"],
    },
    {
        "id": "balance",
        "label_fr": "Désinfecter le plateau de la balance",
        "label_en": "Disinfect the scale plate",
        "when_used": ["scale", "body_composition"],
        "contact_time_s": 60,
    },
    {
        "id": "glucometre",
        "label_fr": "Jeter bandelette et lancette (collecteur DASRI), désinfecter le lecteur",
        "label_en": "Discard strip and lancet (sharps bin), disinfect the meter",
        "when_used": ["glucometer"],
        "contact_time_s": 30,
        "consumables": ["bandelette", "lancette"],
    },
    {
        "id": "stethoscope",
        "label_fr": "Désinfecter la membrane du stéthoscope",
        "label_en": "Disinfect the stethoscope's diaphragm",
        "when_used": ["stethoscope"],
        "contact_time_s": 30,
    },
]
