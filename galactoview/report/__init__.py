"""The surgeon's report: content (Qt-free); PDF writer in galactoview.ui.review.report_pdf."""
