"""Evaluation reports as files: XLSX for printing, self-contained HTML with inline SVG charts."""
