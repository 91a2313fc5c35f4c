"""CSV ingestion: recognise a file by its header, COPY it losslessly into its raw table."""
