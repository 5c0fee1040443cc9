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
ARTICLES = [
    (
        "Understanding your A1c result",
        "What the number on your diabetes blood test means and how often to check it.",
        "diabetes, lab tests",
        "## What A1c measures\n"
        "A1c shows your **average blood sugar over the last two to three months**. It does not "
        "change much from day to day, so it tells you and your clinician how well your plan "
        "is working.\n\n"
        "## What the numbers mean\n"
        "- Below 5.7%: in the normal range\n"
        "- 5.7% to 6.4%: prediabetes\n"
        "- 6.5% or above: diabetes\n\n"
        "## How often to test\n"
        "Most people with diabetes test every *three to six months*. Ask your care team in a "
        "message if you are not sure when your next test is due.\n\n"
        "Learn more from the [American Diabetes Association](https://diabetes.org).",
    ),
    (
        "Taking your blood pressure at home",
        "Five steps for a reading you and your clinician can trust.",
        "heart, blood pressure",
        "## Before you measure\n"
        "Sit quietly for five minutes with your back supported and your feet flat on the "
        "floor. Avoid coffee and exercise for 30 minutes before.\n\n"
        "## Taking the reading\n"
        "- Rest your arm on a table at heart height\n"
        "- Put the cuff on bare skin\n"
        "- Take two readings a minute apart and write both down\n\n"
        "## When to call\n"
        "If your reading is **over 180/120**, wait a few minutes and measure again. If it is "
        "still that high, call the practice or 911 right away.",
    ),
    (
        "Getting ready for your flu shot",
        "Who should get one, when, and what to expect afterwards.",
        "vaccines",
        "## Who should get one\n"
        "Everyone aged six months and older, every year, ideally by the end of October.\n\n"
        "## Afterwards\n"
        "A sore arm or a mild fever for a day is common and a sign your body is building "
        "protection. Send us a message if you feel unwell for more than two days.",
    ),
]
