"""The three analysis queries of the README, kept here so tests run exactly what users read."""

LATEST_RECORDS = """
SELECT record_id, ingested_at, model_name, model_version, age_category, sex, bmi, heart_disease
FROM PATIENT_DATA ORDER BY ingested_at DESC, record_id LIMIT 20
"""

BY_AGE_CATEGORY = """
SELECT age_category, COUNT(*) AS patients, ROUND(AVG(bmi), 2) AS avg_bmi,
       SUM(CASE WHEN heart_disease = 'Yes' THEN 1 ELSE 0 END) AS heart_disease_count
FROM PATIENT_DATA GROUP BY age_category ORDER BY age_category
"""

HEART_DISEASE_DISTRIBUTION = """
SELECT heart_disease, COUNT(*) AS patients,
       ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (), 2) AS percentage
FROM PATIENT_DATA GROUP BY heart_disease ORDER BY heart_disease
"""

QUERIES = {
    "latest_records": LATEST_RECORDS,
    "by_age_category": BY_AGE_CATEGORY,
    "heart_disease_distribution": HEART_DISEASE_DISTRIBUTION,
}
