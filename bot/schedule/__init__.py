"""The schedule: the database owns every due item; one dispatcher delivers them."""
