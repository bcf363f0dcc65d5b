"""The Streamlit app (the only code that imports streamlit): ``pages/`` one script per page,
``components/`` the pieces the pages share. Widgets and rendering only, no maths."""
