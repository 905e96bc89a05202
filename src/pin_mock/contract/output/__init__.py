"""What a run shows: live progress, the summary and verdict, the JUnit and HAR files."""
