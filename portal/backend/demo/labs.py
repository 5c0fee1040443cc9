"""Lab panels used by the demo data: test name, LOINC code, unit, reference range, typical value
and spread."""

PANELS = {
    "Lipid panel": [
        ("Total cholesterol", "2093-3", "mg/dL", None, 200.0, 195.0, 30.0),
        ("LDL cholesterol", "13457-7", "mg/dL", None, 100.0, 112.0, 25.0),
        ("HDL cholesterol", "2085-9", "mg/dL", 40.0, None, 52.0, 10.0),
        ("Triglycerides", "2571-8", "mg/dL", None, 150.0, 140.0, 40.0),
    ],
    "Basic metabolic panel": [
        ("Glucose", "2345-7", "mg/dL", 70.0, 99.0, 96.0, 14.0),
        ("Sodium", "2951-2", "mmol/L", 135.0, 145.0, 139.0, 2.5),
        ("Potassium", "2823-3", "mmol/L", 3.5, 5.1, 4.2, 0.4),
        ("Creatinine", "2160-0", "mg/dL", 0.6, 1.3, 0.95, 0.2),
    ],
    "Hemoglobin A1c": [
        ("Hemoglobin A1c", "4548-4", "%", 4.0, 5.6, 5.7, 0.6),
    ],
    "Complete blood count": [
        ("White blood cells", "6690-2", "10^3/uL", 4.5, 11.0, 7.2, 1.6),
        ("Hemoglobin", "718-7", "g/dL", 12.0, 17.5, 14.1, 1.2),
        ("Platelets", "777-3", "10^3/uL", 150.0, 400.0, 250.0, 50.0),
    ],
}

MESSAGE_THREADS = [
    (
        "medical_question",
        "Question about my blood pressure readings",
        "My home readings have been around 142/90 in the mornings this week. Should I change "
        "anything before my next visit?",
        "Thank you for tracking these. Please keep measuring twice a day for another week and "
        "bring the log to your visit. If you see readings over 180/120, call us right away.",
    ),
    (
        "prescription",
        "Refill for my prescription",
        "I have about five days of tablets left. Could you send a refill to my usual pharmacy?",
        "The refill has been sent to your pharmacy. It should be ready tomorrow afternoon.",
    ),
    (
        "appointment",
        "Can I move my follow-up visit?",
        "Something came up at work on the day of my follow-up. Is there a time later that week?",
        "We have openings on Thursday and Friday afternoon. Reply with the time that suits you.",
    ),
    (
        "medical_question",
        "Side effects after starting the new medicine",
        "Since I started the new medicine I have had a mild headache in the afternoons. Is this "
        "expected?",
        "Mild headaches are common in the first two weeks and usually fade. Drink plenty of water. "
        "If it gets worse or does not improve, let us know.",
    ),
    (
        "billing",
        "Question about a recent bill",
        "I received a bill for my last visit, but I thought my insurance covered it in full.",
        "Our billing team has checked with your insurer; the claim is being reprocessed and you "
        "do not need to pay the bill you received.",
    ),
    (
        "other",
        "Form for school sports",
        "Could you fill in the sports participation form for the coming season? I uploaded it at "
        "the front desk.",
        "The form is completed and ready to pick up at the front desk.",
    ),
]
