"""The rest of a demo chart: medicines, allergies, health issues, vaccines, visit summaries."""

MEDICATIONS = [
    ("Lisinopril", "10 mg", "by mouth", "once a day"),
    ("Metformin", "500 mg", "by mouth", "twice a day with meals"),
    ("Atorvastatin", "20 mg", "by mouth", "once a day at night"),
    ("Levothyroxine", "50 mcg", "by mouth", "once a day before breakfast"),
    ("Albuterol inhaler", "2 puffs", "inhaled", "every 4 hours as needed"),
    ("Sertraline", "50 mg", "by mouth", "once a day"),
]
ALLERGIES = [
    ("Penicillin", "Hives", "moderate"),
    ("Peanuts", "Throat swelling", "severe"),
    ("Latex", "Skin rash", "mild"),
    ("Sulfa drugs", "Rash and fever", "moderate"),
]
PROBLEMS = [
    ("Essential hypertension", "active"),
    ("Prediabetes", "active"),
    ("Mild intermittent asthma", "active"),
    ("Hypothyroidism", "active"),
    ("Seasonal allergic rhinitis", "resolved"),
]
VACCINES = [
    ("Influenza (flu), seasonal", "1"),
    ("COVID-19 mRNA", "3"),
    ("Tetanus, diphtheria, pertussis (Tdap)", "1"),
    ("Shingles (recombinant zoster)", "1"),
]
VISIT_SUMMARIES = [
    (
        "Annual physical",
        "You are in good health overall. Your blood pressure was a little high today.",
        ["Elevated blood pressure"],
        "Check your blood pressure at home twice a day for two weeks and bring the readings.",
        "Follow up in 3 months.",
    ),
    (
        "Follow-up visit",
        "We reviewed your recent blood tests and your medicines. Your cholesterol is improving.",
        ["Hyperlipidemia"],
        "Keep taking your medicine at night. Aim for 30 minutes of walking most days.",
        "Repeat the lipid panel in 6 months.",
    ),
]
X_RAY_REPORT = [
    "Chest X-ray, two views",
    "",
    "Findings: the lungs are clear. The heart is normal in size.",
    "Impression: no acute findings.",
]
