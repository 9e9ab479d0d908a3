"""Development tooling beside the product, never installed: throwaway ZFS
hosts for the tests and the demo (sandbox), and the demo itself."""
