"""The app's pages: one script per page, run by ``st.navigation`` in app.py, all of one shape.

Each page: a module docstring; the title and one-line introduction sent first (before the heavy
imports, so the layout shows at once on a cold start); the imports; ``*_ui()`` functions that only
return widget values; section functions that draw; and ``main()``, called at the bottom.
"""
