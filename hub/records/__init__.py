"""The consultation record (issue 17): the patient's INS identity and GP (``ins``), the
record itself (``model``), its FHIR R4 document (``fhir_document``) and its PDF report
(``report_pdf``). Each module says its public API at its top."""
