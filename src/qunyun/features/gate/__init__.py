"""Entry gates (入群门槛): who may enter a group, and member numbers (编号)."""
