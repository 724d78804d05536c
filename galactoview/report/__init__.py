"""The surgeon's report: its content (Qt-free) and the PDF writer in galactoview.ui.report_pdf."""
