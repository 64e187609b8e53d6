"""What each portal page shows, as plain data: the pages only lay it out (portal/pages/<n>_<Page>.py
reads catalog.views.<page>). Filtering, counting, grouping and dates happen here, under unit tests."""
