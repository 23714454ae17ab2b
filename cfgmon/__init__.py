"""cfgmon: is every AWS account watched for changes to AWS Config's configuration?"""

__version__ = "0.1.0"
