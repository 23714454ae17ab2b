"""cfgmon: is every AWS account really watched for the changes the CIS AWS Foundations Benchmark names?"""

__version__ = "0.1.0"
