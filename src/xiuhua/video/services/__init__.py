"""Use cases of video and enforcement: analysis, notices, SMS, vehicles."""
