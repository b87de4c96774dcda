"""The level dossier (hồ sơ đề xuất cấp độ): its frozen snapshot, its workflow, its rendering."""
