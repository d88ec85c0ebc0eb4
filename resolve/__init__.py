"""Identity resolution: guards, connected components, stable profile ids, golden records.

Pure logic over data read through :class:`graph.store.GraphStore`; never imports a database driver.
"""
