"""The technical floor: database engine, tables, migrations, stored files, image cleaning, package data."""
